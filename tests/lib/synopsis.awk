# Prints each command's synopsis from the .It Cm lines of an mdoc page, as
# plain text: Cm, Ar and Pa give their word, Fl a word after a "-", Op
# brackets the rest of the line, Oo and Oc open and close a bracket, Ns
# takes the space away.  Words are spaced as mdoc spaces them.
function put(w) {
	if (out == "" || tight)
		out = out w
	else
		out = out " " w
	tight = 0
}
/^\.It Cm / {
	out = ""; tight = 0; flag = 0; open = 0
	for (i = 3; i <= NF; i++) {
		t = $i
		if (t == "Cm" || t == "Ar" || t == "Pa")
			continue
		if (t == "Ns") { tight = 1; continue }
		if (t == "Fl") { flag = 1; continue }
		if (t == "Op") { put("["); tight = 1; open++; continue }
		if (t == "Oo") { put("["); tight = 1; continue }
		if (t == "Oc") { out = out "]"; continue }
		if (flag) { t = "-" t; flag = 0 }
		put(t)
	}
	while (open-- > 0)
		out = out "]"
	print out
}
