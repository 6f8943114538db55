using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Selectors;

internal enum LabelOperator
{
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

internal sealed record LabelRequirement(string Key, LabelOperator Operator, IReadOnlyList<string> Values)
{
    public bool Matches(JsonObject? labels)
    {
        var has = labels is not null && labels.TryGetPropertyValue(Key, out _);
        var value = has ? JsonTree.AsString(labels![Key]) ?? "" : null;
        return Operator switch
        {
            LabelOperator.Equals or LabelOperator.In => has && Values.Contains(value!),
            LabelOperator.NotEquals or LabelOperator.NotIn => !has || !Values.Contains(value!),
            LabelOperator.Exists => has,
            LabelOperator.DoesNotExist => !has,
            LabelOperator.GreaterThan => has && long.TryParse(value, out var g) && g > long.Parse(Values[0], System.Globalization.CultureInfo.InvariantCulture),
            LabelOperator.LessThan => has && long.TryParse(value, out var l) && l < long.Parse(Values[0], System.Globalization.CultureInfo.InvariantCulture),
            _ => false,
        };
    }
}

// labels.Parse from apimachinery: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`,
// comma-separated requirements all of which must hold.
internal sealed partial class LabelSelector
{
    private LabelSelector(IReadOnlyList<LabelRequirement> requirements) => Requirements = requirements;

    public IReadOnlyList<LabelRequirement> Requirements { get; }

    public bool IsEmpty => Requirements.Count == 0;

    public bool Matches(JsonObject? labels)
    {
        foreach (var r in Requirements)
        {
            if (!r.Matches(labels))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses a selector; a malformed one throws a 400 BadRequest naming the problem.</summary>
    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return new LabelSelector([]);
        }

        var lexer = new Lexer(text);
        var requirements = new List<LabelRequirement>();
        while (true)
        {
            requirements.Add(ParseRequirement(lexer));
            var (tok, lit) = lexer.Next();
            if (tok == Token.End)
            {
                break;
            }

            if (tok != Token.Comma)
            {
                throw Fail($"found '{lit}', expected: ',' or 'end of string'");
            }
        }

        return new LabelSelector(requirements);
    }

    private static LabelRequirement ParseRequirement(Lexer lexer)
    {
        var (tok, lit) = lexer.Next();
        var negated = false;
        if (tok == Token.Not)
        {
            negated = true;
            (tok, lit) = lexer.Next();
        }

        if (tok != Token.Identifier)
        {
            throw Fail(negated
                ? $"found '{lit}', expected: identifier after '!'"
                : $"found '{lit}', expected: !, identifier, or 'end of string'");
        }

        var key = lit;
        ValidateKey(key);
        if (negated)
        {
            return new LabelRequirement(key, LabelOperator.DoesNotExist, []);
        }

        var (peek, _) = lexer.Peek();
        if (peek is Token.Comma or Token.End)
        {
            return new LabelRequirement(key, LabelOperator.Exists, []);
        }

        (tok, lit) = lexer.Next();
        LabelOperator op;
        switch (tok)
        {
            case Token.Equals:
            case Token.DoubleEquals:
                op = LabelOperator.Equals;
                break;
            case Token.NotEquals:
                op = LabelOperator.NotEquals;
                break;
            case Token.Greater:
                op = LabelOperator.GreaterThan;
                break;
            case Token.Less:
                op = LabelOperator.LessThan;
                break;
            case Token.In:
                op = LabelOperator.In;
                break;
            case Token.NotIn:
                op = LabelOperator.NotIn;
                break;
            default:
                throw Fail($"found '{lit}', expected: in, notin, =, ==, !=, gt, lt");
        }

        var values = new List<string>();
        if (op is LabelOperator.In or LabelOperator.NotIn)
        {
            (tok, lit) = lexer.Next();
            if (tok != Token.Open)
            {
                throw Fail($"found '{lit}', expected: '('");
            }

            while (true)
            {
                (tok, lit) = lexer.Next();
                if (tok == Token.Identifier || tok == Token.In || tok == Token.NotIn)
                {
                    values.Add(lit);
                    (tok, lit) = lexer.Next();
                }
                else if (tok is Token.Comma or Token.Close)
                {
                    values.Add(""); // empty value, e.g. "k in (a,)"
                }

                if (tok == Token.Close)
                {
                    break;
                }

                if (tok != Token.Comma)
                {
                    throw Fail($"found '{lit}', expected: ',' or ')'");
                }
            }
        }
        else
        {
            var (next, nextLit) = lexer.Peek();
            if (next is Token.Identifier or Token.In or Token.NotIn)
            {
                lexer.Next();
                values.Add(nextLit);
            }
            else if (next is Token.Comma or Token.End)
            {
                values.Add("");
            }
            else
            {
                throw Fail($"found '{nextLit}', expected: identifier");
            }

            if (op is LabelOperator.GreaterThan or LabelOperator.LessThan &&
                !long.TryParse(values[0], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                throw Fail($"for 'Gt', 'Lt' operators, the value must be an integer: {values[0]}");
            }
        }

        if (op is not (LabelOperator.GreaterThan or LabelOperator.LessThan))
        {
            for (var i = 0; i < values.Count; i++)
            {
                if (values[i].Length > 63 || (values[i].Length > 0 && !LabelValue().IsMatch(values[i])))
                {
                    throw Fail($"values[{i}][{key}]: Invalid value: {JsonTree.Quote(values[i])}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
                }
            }
        }

        return new LabelRequirement(key, op, values);
    }

    private static void ValidateKey(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var name = slash < 0 ? key : key[(slash + 1)..];
        var prefix = slash < 0 ? null : key[..slash];
        if (prefix is not null && (prefix.Length == 0 || prefix.Length > 253 || !Names.IsDns1123Subdomain(prefix)))
        {
            throw Fail($"key: Invalid value: {JsonTree.Quote(key)}: prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
        }

        if (name.Length == 0 || name.Length > 63 || !QualifiedNamePart().IsMatch(name))
        {
            throw Fail($"key: Invalid value: {JsonTree.Quote(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
        }
    }

    private static StatusException Fail(string detail) => ApiErrors.BadRequest("unable to parse requirement: " + detail);

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex QualifiedNamePart();

    private enum Token
    {
        End,
        Identifier,
        Not,
        Equals,
        DoubleEquals,
        NotEquals,
        Greater,
        Less,
        Comma,
        Open,
        Close,
        In,
        NotIn,
    }

    private sealed class Lexer(string text)
    {
        private int _pos;

        public (Token, string) Peek()
        {
            var save = _pos;
            var result = Next();
            _pos = save;
            return result;
        }

        public (Token, string) Next()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }

            if (_pos >= text.Length)
            {
                return (Token.End, "");
            }

            var c = text[_pos];
            switch (c)
            {
                case ',':
                    _pos++;
                    return (Token.Comma, ",");
                case '(':
                    _pos++;
                    return (Token.Open, "(");
                case ')':
                    _pos++;
                    return (Token.Close, ")");
                case '>':
                    _pos++;
                    return (Token.Greater, ">");
                case '<':
                    _pos++;
                    return (Token.Less, "<");
                case '!':
                    _pos++;
                    if (_pos < text.Length && text[_pos] == '=')
                    {
                        _pos++;
                        return (Token.NotEquals, "!=");
                    }

                    return (Token.Not, "!");
                case '=':
                    _pos++;
                    if (_pos < text.Length && text[_pos] == '=')
                    {
                        _pos++;
                        return (Token.DoubleEquals, "==");
                    }

                    return (Token.Equals, "=");
            }

            var start = _pos;
            while (_pos < text.Length && !char.IsWhiteSpace(text[_pos]) && ",()<>!=".IndexOf(text[_pos], StringComparison.Ordinal) < 0)
            {
                _pos++;
            }

            var word = text[start.._pos];
            return word switch
            {
                "in" => (Token.In, word),
                "notin" => (Token.NotIn, word),
                _ => (Token.Identifier, word),
            };
        }
    }
}
