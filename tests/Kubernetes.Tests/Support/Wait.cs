namespace BareLb.Kubernetes.Tests.Support;

/// <summary>The real-time bound on waiting for something the test is sure will happen: a safety net, never a sleep.</summary>
internal static class Wait
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Patience);

    public static Task Within(this Task task) => task.WaitAsync(Patience);
}
