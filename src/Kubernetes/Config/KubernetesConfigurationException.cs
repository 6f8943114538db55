namespace BareLb.Kubernetes.Config;

/// <summary>
/// The kubeconfig or in-cluster environment is missing or unusable. The message names the file and the field
/// ("kubeconfig /x: users[0].user.client-key-data: not valid base64").
/// </summary>
public sealed class KubernetesConfigurationException : Exception
{
    public KubernetesConfigurationException(string message) : base(message) { }

    public KubernetesConfigurationException(string message, Exception inner) : base(message, inner) { }
}
