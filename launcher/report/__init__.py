"""Reports on finished and running trainings: robomimic logs and TensorBoard event files, read with the standard library alone."""
