"""groupy-actors: group membership and totally ordered multicast on Thespian."""
