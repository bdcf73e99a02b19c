// The intake HTTP API.
