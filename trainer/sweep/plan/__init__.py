"""Plan a sweep: its command line composed into trials, and the searches that propose them."""
