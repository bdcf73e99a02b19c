// The domain module: see the files beside this one.
