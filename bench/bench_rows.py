"""Reading the shared harness's results for bench/milter_load.sh's summaries.

The harness writes results.tsv with a header line; milter_load.sh keeps the
header in one file and the rows of its passes, each with its own leading
fields (isolation mode, round), in another.
"""


def columns(head_path):
    """The column names of results.tsv, from the saved header line."""
    with open(head_path) as f:
        return f.read().rstrip("\n").split("\t")


def num(v):
    """A cell as a number, or None when it is not one ("-", empty)."""
    try:
        return float(v)
    except ValueError:
        return None
