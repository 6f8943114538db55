using System.Text;

namespace BareLb.ApiServer.Hosting;

// A standard kubeconfig (v1 Config) with one cluster and one context. Without a token the context names no user
// at all: an empty user entry is not an anonymous user to every client (KubernetesClient refuses a user without
// credentials), while a context without a user is anonymous access to all of them (kubectl, client-go, KubernetesClient).
internal static class KubeconfigWriter
{
    public static string Render(Uri server, string? caPem, string? token)
    {
        var sb = new StringBuilder();
        sb.Append("apiVersion: v1\nkind: Config\nclusters:\n- name: barelb\n  cluster:\n");
        sb.Append("    server: ").Append(server.GetLeftPart(UriPartial.Authority)).Append('\n');
        if (caPem is not null)
        {
            sb.Append("    certificate-authority-data: ").Append(Convert.ToBase64String(Encoding.ASCII.GetBytes(caPem))).Append('\n');
        }

        if (token is not null)
        {
            sb.Append("users:\n- name: barelb\n  user:\n    token: \"")
                .Append(token.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append("\"\n");
            sb.Append("contexts:\n- name: barelb\n  context:\n    cluster: barelb\n    user: barelb\n    namespace: default\n");
        }
        else
        {
            sb.Append("users: []\n");
            sb.Append("contexts:\n- name: barelb\n  context:\n    cluster: barelb\n    namespace: default\n");
        }

        sb.Append("current-context: barelb\npreferences: {}\n");
        return sb.ToString();
    }
}
