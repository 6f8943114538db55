namespace BareLb.Controller.Reconciliation;

public enum WorkKind
{
    /// <summary>One Service, by namespace and name.</summary>
    Service,
    /// <summary>A namespace's labels changed: its Services may now match other pools.</summary>
    Namespace,
    /// <summary>Some IPAddressPool changed: re-read all of them (pools are few).</summary>
    Pools,
}

public readonly record struct WorkItem(WorkKind Kind, string Namespace, string Name)
{
    public static WorkItem Pools { get; } = new(WorkKind.Pools, "", "");

    public static WorkItem ForService(string ns, string name) => new(WorkKind.Service, ns, name);

    public static WorkItem ForNamespace(string name) => new(WorkKind.Namespace, "", name);

    public override string ToString() => Kind switch
    {
        WorkKind.Service => $"service {Namespace}/{Name}",
        WorkKind.Namespace => $"namespace {Name}",
        _ => "pools",
    };
}
