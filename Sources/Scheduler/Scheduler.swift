// The scheduler daemon.
