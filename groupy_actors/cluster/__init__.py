"""Groups spread over several machines: one actor system per machine (a
*node*), the nodes joined in a Thespian convention, and a directory on the
convention leader that places members on nodes and gathers their status."""
