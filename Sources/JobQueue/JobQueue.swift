// The job queue.
