namespace BareLb.Api;

/// <summary>
/// Labels speakers put on ServiceL2Status and ServiceBGPStatus objects, so they can be listed per node or per
/// Service with a label selector (the object names themselves are generated).
/// </summary>
public static class StatusLabels
{
    public const string Node = "barelb.io/node";
    public const string ServiceName = "barelb.io/service-name";
    public const string ServiceNamespace = "barelb.io/service-namespace";
}
