using System.Net;
using k8s.Models;

namespace BareLb.Kubernetes.Tests.Client;

/// <summary>From the API's Status (reason first, then HTTP code) to the exception a caller catches.</summary>
public sealed class ErrorMappingTests
{
    public static TheoryData<int, string?, Type> Cases => new()
    {
        // The reason decides first: a 409 is AlreadyExists on create, Conflict on a stale update.
        { 409, "AlreadyExists", typeof(AlreadyExistsException) },
        { 409, "Conflict", typeof(ConflictException) },
        { 409, null, typeof(ConflictException) },
        { 404, "NotFound", typeof(NotFoundException) },
        { 404, null, typeof(NotFoundException) },
        { 410, "Expired", typeof(GoneException) },
        { 410, "Gone", typeof(GoneException) },
        { 410, null, typeof(GoneException) },
        // A watch ERROR event from an older server can carry 500 with reason Expired.
        { 500, "Expired", typeof(GoneException) },
        { 403, "Forbidden", typeof(ForbiddenException) },
        { 401, "Unauthorized", typeof(UnauthorizedException) },
        { 401, null, typeof(UnauthorizedException) },
        { 422, "Invalid", typeof(InvalidException) },
        { 429, "TooManyRequests", typeof(TooManyRequestsException) },
        { 429, null, typeof(TooManyRequestsException) },
        { 400, "BadRequest", typeof(KubernetesApiException) },
        { 500, "InternalError", typeof(KubernetesApiException) },
        { 503, "ServiceUnavailable", typeof(KubernetesApiException) },
        { 504, "Timeout", typeof(KubernetesApiException) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void From_CodeAndReason_PicksExceptionType(int code, string? reason, Type expected)
    {
        var status = new V1Status { Kind = "Status", Status = "Failure", Code = code, Reason = reason, Message = "m" };
        var e = KubernetesApiException.From((HttpStatusCode)code, status);
        Assert.IsType(expected, e);
        Assert.Equal((HttpStatusCode)code, e.Code);
        Assert.Same(status, e.Status);
        Assert.Equal(reason, e.Reason);
    }

    [Fact]
    public void Message_WithCauses_ListsFieldAndMessage()
    {
        var status = new V1Status
        {
            Reason = "Invalid",
            Message = "Service \"x\" is invalid",
            Details = new V1StatusDetails
            {
                Causes =
                [
                    new V1StatusCause { Field = "spec.ports[0].port", Message = "must be between 1 and 65535" },
                    new V1StatusCause { Field = "spec.type", Message = "Unsupported value" },
                ],
            },
        };
        var e = KubernetesApiException.From((HttpStatusCode)422, status);
        Assert.Equal("422 Invalid: Service \"x\" is invalid (spec.ports[0].port: must be between 1 and 65535; spec.type: Unsupported value)", e.Message);
        Assert.Equal(2, e.Causes.Count);
    }

    [Fact]
    public void Message_CausesAlreadyInMessage_AreNotRepeated()
    {
        var status = new V1Status
        {
            Reason = "Invalid",
            Message = "Service \"a\" is invalid: spec.ports: Required value",
            Details = new V1StatusDetails
            {
                Causes =
                [
                    new V1StatusCause { Field = "spec.ports", Message = "Required value" },
                    new V1StatusCause { Field = "spec.type", Message = "Unsupported value" },
                ],
            },
        };
        var e = KubernetesApiException.From((HttpStatusCode)422, status);
        Assert.Equal("422 Invalid: Service \"a\" is invalid: spec.ports: Required value (spec.type: Unsupported value)", e.Message);
    }

    [Theory]
    [InlineData(3, 3.0)]
    [InlineData(0, null)]
    [InlineData(null, null)]
    public void RetryAfter_FromDetails_OnlyWhenPositive(int? seconds, double? expected)
    {
        var status = new V1Status { Code = 429, Reason = "TooManyRequests", Details = new V1StatusDetails { RetryAfterSeconds = seconds } };

        var e = KubernetesApiException.From((HttpStatusCode)429, status);

        Assert.Equal(expected is null ? null : TimeSpan.FromSeconds(expected.Value), e.RetryAfter);
    }
}
