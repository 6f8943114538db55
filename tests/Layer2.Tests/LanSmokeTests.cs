using BareLb.NetTestSupport;

namespace BareLb.Layer2.Tests;

/// <summary>The namespace lab itself works here: two hosts on a bridge resolve each other with the kernel's ARP.</summary>
public sealed class LanSmokeTests
{
    [NetnsFact]
    public async Task TwoHostsOnTheBridge_ResolveEachOther()
    {
        NetnsCapability.RequireTool("arping", "arping");
        await using var lan = await Lan.CreateAsync("smoke");
        var a = await lan.AddHostAsync("a", ["198.51.100.1/24"]);
        await lan.AddHostAsync("b", ["198.51.100.2/24"]);

        var result = await a.ExecAsync("arping", ["-c", "1", "-w", "2", "-I", "eth0", "198.51.100.2"]);

        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
    }
}
