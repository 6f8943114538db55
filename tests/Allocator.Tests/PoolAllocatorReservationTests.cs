using static BareLb.Allocator.Tests.TestData;

namespace BareLb.Allocator.Tests;

/// <summary>
/// Addresses a service gives up with a ticket stay reserved until the controller says the write that took them
/// off the service has landed: until then nobody else may be given them.
/// </summary>
public sealed class PoolAllocatorReservationTests
{
    private static readonly PortKey Http = new("TCP", 80);
    private static readonly PortKey Https = new("TCP", 443);

    [Fact]
    public void Release_WithTicket_AddressReservedUntilReleaseReserved()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.7/32"));
        allocator.Allocate(Service("ns/a"));

        Assert.True(allocator.Release(Key("ns/a"), ticket: 1));

        Assert.Null(allocator.GetAssignment(Key("ns/a")));
        Assert.Equal(["10.0.0.7"], allocator.ReservedFor(Key("ns/a")).Select(a => a.ToString()));
        Assert.Equal(AllocationFailure.PoolExhausted, allocator.Allocate(Service("ns/b")).Failure);
        Assert.Equal((UInt128)1, allocator.GetUsage("p").AssignedIPv4);

        Assert.True(allocator.ReleaseReserved(Key("ns/a"), 1));

        Assert.Empty(allocator.ReservedFor(Key("ns/a")));
        Assert.Equal(["10.0.0.7"], allocator.Allocate(Service("ns/b")).Addresses());
    }

    [Fact]
    public void Release_WithoutTicket_AddressFreeAtOnce()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.7/32"));
        allocator.Allocate(Service("ns/a"));

        allocator.Release(Key("ns/a"));

        Assert.Empty(allocator.ReservedFor(Key("ns/a")));
        Assert.Equal(["10.0.0.7"], allocator.Allocate(Service("ns/b")).Addresses());
    }

    [Fact]
    public void Allocate_MoveWithTicket_OldAddressReservedNewHeld()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.50")] });

        var moved = allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.60")] }, ticket: 4);

        Assert.Equal(["10.0.0.60"], moved.Addresses());
        Assert.Equal(["10.0.0.50"], allocator.ReservedFor(Key("ns/a")).Select(a => a.ToString()));
        var other = allocator.Allocate(Service("ns/b") with { RequestedAddresses = [Ip("10.0.0.50")] });
        Assert.Equal(AllocationFailure.AddressInUse, other.Failure);
        Assert.Equal("address 10.0.0.50 is in use by ns/a (until the write that frees it lands)", other.Message);
    }

    [Fact]
    public void Allocate_UnchangedWithTicket_ReservesNothing()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a"));

        allocator.Allocate(Service("ns/a"), ticket: 2);

        Assert.Empty(allocator.ReservedFor(Key("ns/a")));
        Assert.False(allocator.ReleaseReserved(Key("ns/a"), 2));
    }

    [Fact]
    public void ReleaseReserved_EndsOnlyTicketsUpToGiven()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.1-10.0.0.9"));
        allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.1")] });
        allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.2")] }, ticket: 1);
        allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.3")] }, ticket: 2);

        Assert.True(allocator.ReleaseReserved(Key("ns/a"), 1));

        Assert.Equal(["10.0.0.2"], allocator.ReservedFor(Key("ns/a")).Select(a => a.ToString()));
        Assert.Equal(["10.0.0.1"], allocator.Allocate(Service("ns/b")).Addresses());
        Assert.True(allocator.ReleaseReserved(Key("ns/a"), 2));
        Assert.Equal(["10.0.0.2"], allocator.Allocate(Service("ns/c")).Addresses());
    }

    [Fact]
    public void Allocate_OwnReservedAddressAgain_TakenBackAndStaysHeldAfterReservationEnds()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.1")] });
        allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.2")] }, ticket: 1);

        var back = allocator.Allocate(Service("ns/a") with { RequestedAddresses = [Ip("10.0.0.1")] }, ticket: 2);
        allocator.ReleaseReserved(Key("ns/a"), 1);

        Assert.Equal(["10.0.0.1"], back.Addresses());
        Assert.Equal(["10.0.0.2"], allocator.ReservedFor(Key("ns/a")).Select(a => a.ToString()));
        Assert.Equal(AllocationFailure.AddressInUse, allocator.Allocate(Service("ns/b") with { RequestedAddresses = [Ip("10.0.0.1")] }).Failure);
    }

    [Fact]
    public void Reserved_SharedAddress_CoSharersJudgedAgainstReservedRequest()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a") with { SharingKey = "k", Ports = [Http], RequestedAddresses = [Ip("10.0.0.9")] });
        allocator.Release(Key("ns/a"), ticket: 1);

        var compatible = allocator.Allocate(Service("ns/b") with { SharingKey = "k", Ports = [Https], RequestedAddresses = [Ip("10.0.0.9")] });
        var clash = allocator.Allocate(Service("ns/c") with { SharingKey = "k", Ports = [Http], RequestedAddresses = [Ip("10.0.0.9")] });

        Assert.Equal(["10.0.0.9"], compatible.Addresses());
        Assert.Equal(AllocationFailure.AddressInUse, clash.Failure);
        Assert.Contains("port TCP/80 is used by both", clash.Message);
    }

    [Fact]
    public void HasReservationsIn_PoolContainingReservedAddress_True()
    {
        var allocator = AllocatorWith(Pool("old", "10.0.0.0/24"), Pool("new", "10.0.1.0/24"));
        allocator.Allocate(Service("ns/a") with { RequestedPool = "old" });
        allocator.Allocate(Service("ns/a") with { RequestedPool = "new" }, ticket: 1);

        Assert.True(allocator.HasReservationsIn("old"));
        Assert.False(allocator.HasReservationsIn("new"));
        Assert.Empty(allocator.HoldersOf("old"));

        allocator.ReleaseReserved(Key("ns/a"), 1);
        Assert.False(allocator.HasReservationsIn("old"));
    }

    [Fact]
    public void Reserve_AddressShownButNotHeld_NobodyElseGetsItUntilReleased()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.7/32"));

        allocator.Reserve(Service("ns/gone-lb"), [Ip("10.0.0.7")], ticket: 0);

        Assert.Equal(AllocationFailure.PoolExhausted, allocator.Allocate(Service("ns/b")).Failure);
        Assert.True(allocator.ReleaseReserved(Key("ns/gone-lb"), 5));
        Assert.Equal(["10.0.0.7"], allocator.Allocate(Service("ns/b")).Addresses());
    }

    [Fact]
    public void Keep_SharingStillAllowed_KeepsUnderNewTerms()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a") with { SharingKey = "k", Ports = [Http], RequestedAddresses = [Ip("10.0.0.9")] });
        allocator.Allocate(Service("ns/b") with { SharingKey = "k", Ports = [Https], RequestedAddresses = [Ip("10.0.0.9")] });
        allocator.SetPools([]);

        var kept = allocator.Keep(Service("ns/b") with { SharingKey = "k", Ports = [new PortKey("TCP", 8443)] });

        Assert.True(kept.Succeeded);
        Assert.Equal(["10.0.0.9"], kept.Addresses());
    }

    [Fact]
    public void Keep_SharingNoLongerAllowed_ReleasesWithReservation()
    {
        var allocator = AllocatorWith(Pool("p", "10.0.0.0/24"));
        allocator.Allocate(Service("ns/a") with { SharingKey = "k", Ports = [Http], RequestedAddresses = [Ip("10.0.0.9")] });
        allocator.Allocate(Service("ns/b") with { SharingKey = "k", Ports = [Https], RequestedAddresses = [Ip("10.0.0.9")] });
        allocator.SetPools([]);

        var kept = allocator.Keep(Service("ns/b") with { Ports = [Https] }, ticket: 3);

        Assert.Equal(AllocationFailure.AddressInUse, kept.Failure);
        Assert.StartsWith("its previous address was released", kept.Message);
        Assert.Null(allocator.GetAssignment(Key("ns/b")));
        Assert.Equal(["10.0.0.9"], allocator.ReservedFor(Key("ns/b")).Select(a => a.ToString()));
    }
}
