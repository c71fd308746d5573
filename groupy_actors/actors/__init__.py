"""The actor shell: Thespian actors that host protocol cores and applications."""
