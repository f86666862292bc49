dist_man_MANS += man/airlock.1
dist_man_MANS += man/airlockd.8 man/airlockd.conf.5
