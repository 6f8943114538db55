using System.Runtime.CompilerServices;

// The tests check the shape of the run sets directly: "first free" must stay one lookup however many runs a
// pool holds, and that is a property of the structure, not of any single allocation result.
[assembly: InternalsVisibleTo("BareLb.Allocator.Tests")]
