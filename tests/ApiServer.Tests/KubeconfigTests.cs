using BareLb.TestSupport;
using k8s;

namespace BareLb.ApiServer.Tests;

// The kubeconfig the server writes, read by the official KubernetesClient package the way the lab's processes read it.
public sealed class KubeconfigTests
{
    [Theory]
    [InlineData(false, null)]
    [InlineData(false, "t0k3n")]
    [InlineData(true, null)]
    [InlineData(true, "t0k3n")]
    public async Task WriteKubeconfig_OfficialClient_LoadsItAndListsNamespaces(bool https, string? token)
    {
        await using var api = await ApiServerFixture.StartAsync(o =>
        {
            o.UseHttps = https;
            o.RequiredBearerToken = token;
        });
        var dir = Directory.CreateTempSubdirectory("barelb-kc-");
        try
        {
            var path = api.Server.WriteKubeconfig(Path.Combine(dir.FullName, "config"), token);
            var config = k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(path);
            Assert.Equal(token, config.AccessToken);
            Assert.Equal("default", config.Namespace);
            using var client = new k8s.Kubernetes(config);
            var namespaces = await client.CoreV1.ListNamespaceAsync();
            Assert.Contains(namespaces.Items, n => n.Metadata.Name == "kube-system");
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
