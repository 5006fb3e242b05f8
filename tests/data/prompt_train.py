"""A train script that waits for an answer on stdin, as robomimic's does for an existing folder."""
answer = input("WARNING: model directory (x) already exists! \noverwrite? (y/n)\n")
print(f"answer={answer!r}")
try:
    input()
except EOFError:
    print("stdin closed after the answer")
