using System.Diagnostics.CodeAnalysis;

namespace BareLb.Api.Config;

/// <summary>One problem in an object: the JSON path of the field ("spec.addresses[2]") and why it is wrong.</summary>
public sealed record ValidationError(string Field, string Reason)
{
    public override string ToString() => $"{Field}: {Reason}";
}

/// <summary>Either the parsed form of an object or the list of everything wrong with it, never both.</summary>
public sealed record ValidationResult<T>(T? Value, IReadOnlyList<ValidationError> Errors) where T : class
{
    [MemberNotNullWhen(true, nameof(Value))]
    public bool IsValid => Value is not null;

    internal static ValidationResult<T> Of(List<ValidationError> errors, Func<T> build) =>
        errors.Count == 0 ? new ValidationResult<T>(build(), []) : new ValidationResult<T>(null, errors);
}
