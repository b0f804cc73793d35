"""Never finishes: sleeps far past its manifest's one-second time limit (the runner kills it)."""

import time

time.sleep(3600)
with open("done.txt", "w") as f:
    f.write("unreachable\n")
