using System.Text;

namespace BareLb.ApiServer.Hosting;

// A standard kubeconfig (v1 Config) with one cluster, one user and one context.
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

        sb.Append("users:\n- name: barelb\n  user:");
        if (token is not null)
        {
            sb.Append("\n    token: \"").Append(token.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append("\"\n");
        }
        else
        {
            sb.Append(" {}\n");
        }

        sb.Append("contexts:\n- name: barelb\n  context:\n    cluster: barelb\n    user: barelb\n    namespace: default\n");
        sb.Append("current-context: barelb\npreferences: {}\n");
        return sb.ToString();
    }
}
