"""Groups spread over several machines: one actor system per machine (a
*node*), each with a directory; the directories are members of a group of
their own ("directory", gms4 in quorum mode), so every node holds the same
table of nodes, groups and members and any live node answers for the whole
cluster. `Cluster.connect` attaches a program to it through a node on its
machine."""
from .client import Cluster, ClusterError, ExternalMember, group_config

__all__ = ["Cluster", "ClusterError", "ExternalMember", "group_config"]
