"""A train script that fails the way robomimic's train.py does: the message, then exit 0."""
print("run failed with error:\nCUDA out of memory\n\nTraceback (most recent call last): ...")
