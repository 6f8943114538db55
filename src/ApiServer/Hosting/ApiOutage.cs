namespace BareLb.ApiServer;

/// <summary>How the in-process server fails while a test simulates an API outage (state is kept throughout).</summary>
public enum ApiOutage
{
    /// <summary>Serving normally.</summary>
    None,

    /// <summary>Every request is answered 503 with a ServiceUnavailable Status; open watches end cleanly.</summary>
    ServiceUnavailable,

    /// <summary>Every request has its connection aborted; open watches are aborted too.</summary>
    ConnectionReset,

    /// <summary>
    /// A half-open connection: requests are never answered and open watches go silent (no events, no bookmarks).
    /// Both stay that way after the outage ends, as a dead TCP peer would; only new requests see the recovery.
    /// </summary>
    Silent,
}
