"""acctgraph: find coordinated account farms in the attributes accounts share."""
