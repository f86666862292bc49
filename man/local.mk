dist_man_MANS += man/airlock.1
