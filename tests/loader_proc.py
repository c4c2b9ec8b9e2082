"""A separate writer process for the crash and concurrency tests: loads windows, one transaction each, and
prints a line after each commit. Usage: loader_proc.py DB SOURCE FIRST_MONTH COUNT [BULLETINS] [LOCK_TIMEOUT]"""

import sys

from etl.demo.synthetic import window_batch
from etl.warehouse.database import connect, migrate
from etl.warehouse.load import load_batch


def main() -> None:
    db, source, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    bulletins = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    lock_timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 60
    for m in range(first, first + count):
        batch = window_batch(source, 2024, m, bulletins=bulletins)
        con = connect(db, lock_timeout)
        try:
            migrate(con)
            load_batch(con, batch, f"{source}-{m}")
        finally:
            con.close()
        print(f"committed {m}", flush=True)


if __name__ == "__main__":
    main()
