namespace BareLb.Controller.Reconciliation;

public enum WorkKind
{
    /// <summary>One Service, by namespace and name.</summary>
    Service,
    /// <summary>A namespace's labels changed: its Services may now match other pools.</summary>
    Namespace,
    /// <summary>Some IPAddressPool's spec, deletion or finalizers changed: load all of them again (pools are few).</summary>
    Pools,
    /// <summary>Add or remove the pool-protection finalizer where the pools' state asks for it.</summary>
    PoolFinalizers,
    /// <summary>Write the status of the pools whose counts or conditions changed.</summary>
    PoolStatus,
    /// <summary>Service writes have ended: settle what they reserved.</summary>
    WritesCompleted,
}

/// <summary>What the loop reconciles next. Equal items wait in the queue once.</summary>
public readonly record struct WorkItem(WorkKind Kind, string Namespace, string Name)
{
    public static WorkItem Pools { get; } = new(WorkKind.Pools, "", "");

    public static WorkItem PoolFinalizers { get; } = new(WorkKind.PoolFinalizers, "", "");

    public static WorkItem PoolStatus { get; } = new(WorkKind.PoolStatus, "", "");

    public static WorkItem WritesCompleted { get; } = new(WorkKind.WritesCompleted, "", "");

    public static WorkItem ForService(string ns, string name) => new(WorkKind.Service, ns, name);

    public static WorkItem ForNamespace(string name) => new(WorkKind.Namespace, "", name);

    public override string ToString() => Kind switch
    {
        WorkKind.Service => $"service {Namespace}/{Name}",
        WorkKind.Namespace => $"namespace {Name}",
        WorkKind.Pools => "pools",
        WorkKind.PoolFinalizers => "pool finalizers",
        WorkKind.PoolStatus => "pool status",
        _ => "completed writes",
    };
}
