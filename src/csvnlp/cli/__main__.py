"""``python -m csvnlp.cli``: the same as the ``csvnlp`` command."""

from csvnlp.cli import main

main()
