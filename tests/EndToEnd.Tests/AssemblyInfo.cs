// The labs share two cores with everything else: a BGP lab starting while the Layer 2 lab measures failover or runs
// under loss starves its speakers, and what is then measured is the machine, not BareLb. One lab at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
