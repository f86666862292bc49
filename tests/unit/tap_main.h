/*
 * Every cmocka test program reports in TAP, for Automake's TAP driver.
 */
#ifndef AIRLOCK_TAP_MAIN_H
#define AIRLOCK_TAP_MAIN_H

#define RUN_TAP(tests) \
	(cmocka_set_message_output(CM_OUTPUT_TAP), \
	 cmocka_run_group_tests(tests, NULL, NULL))

#endif
