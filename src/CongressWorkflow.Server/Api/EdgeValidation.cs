using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.EventStore;

namespace CongressWorkflow.Server.Api;

/// <summary>
/// Every API request meets <see cref="EdgeRules"/> before its handler runs: ids in the route and the body, names, free
/// text and days, in the bound body at any depth; a stream id in the store's form; a missing body is a 400 too. Refusals are 400 problems naming the
/// field, so nothing the handler would write ever sees the value.
/// </summary>
public sealed class EdgeValidation : IEndpointFilter
{
    public const string InvalidId = "invalid-id";
    public const string InvalidText = "invalid-text";
    public const string InvalidDay = "invalid-day";
    public const string MissingBody = "missing-body";

    /// <summary>Route values that name organisations, campaigns and subscriptions (stream ids and GUIDs have their own forms).</summary>
    private static readonly string[] IdRouteValues = ["organizationId", "campaignId", "id", "subscriptionId"];

    /// <summary>Query parameters that name an organisation (the root of a subtree).</summary>
    private static readonly string[] IdQueryValues = ["root"];

    /// <summary>The route value and query parameter that name a stream, in the store's form (400 invalid-stream-id).</summary>
    private const string StreamRouteValue = "streamId";
    private const string StreamQueryValue = "stream";

    /// <summary>Fields holding a single-line name (shown in tables and exported to spreadsheets).</summary>
    private static readonly HashSet<string> NameFields = new(StringComparer.Ordinal) { "Name", "Head", "Title" };

    /// <summary>Each body type's public properties, and whether the type declares them non-nullable references (so required).</summary>
    private static readonly ConcurrentDictionary<Type, (PropertyInfo Property, bool Required)[]> Properties = new();

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        foreach (var name in IdRouteValues)
        {
            if (context.HttpContext.GetRouteValue(name) is string value && !EdgeRules.IsId(value))
            {
                throw NotAnId(name, value);
            }
        }

        if (context.HttpContext.GetRouteValue("subscriptionId") is string subscription && !subscription.StartsWith("sub-", StringComparison.Ordinal))
        {
            throw Refuse(InvalidId, $"subscriptionId '{EdgeRules.Shorten(subscription)}' is not a subscription's id, which starts with sub-");
        }

        foreach (var name in IdQueryValues)
        {
            if (context.HttpContext.Request.Query.TryGetValue(name, out var values) && values.FirstOrDefault(v => !EdgeRules.IsId(v)) is { } value)
            {
                throw NotAnId(name, value);
            }
        }

        // Before a handler looks the stream's owner up: a NUL in an id sent to PostgreSQL was a 500.
        if (context.HttpContext.GetRouteValue(StreamRouteValue) is string streamId)
        {
            PostgresEventStore.ValidateStreamId(streamId);
        }

        if (context.HttpContext.Request.Query.TryGetValue(StreamQueryValue, out var streams))
        {
            foreach (var stream in streams)
            {
                PostgresEventStore.ValidateStreamId(stream ?? string.Empty);
            }
        }

        var endpoint = context.HttpContext.GetEndpoint();
        var parameters = endpoint?.Metadata.GetMetadata<MethodInfo>()?.GetParameters();
        var bodyType = endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType;
        for (var i = 0; i < context.Arguments.Count; i++)
        {
            var argument = context.Arguments[i];
            var type = parameters is not null && i < parameters.Length ? parameters[i].ParameterType : argument?.GetType();
            if (type is not null && (IsRequestBody(type) || (type == bodyType && type.IsClass && type != typeof(string))))
            {
                if (argument is null)
                {
                    throw Refuse(MissingBody, "the request needs a JSON body");
                }

                Check(argument, string.Empty);
            }
        }

        return await next(context);
    }

    private static RequestRejectedException NotAnId(string name, string value) =>
        Refuse(InvalidId, $"{name} '{EdgeRules.Shorten(value)}' is not an id: lower-case letters, digits and hyphens, at most 100");

    private static bool IsRequestBody(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("CongressWorkflow", StringComparison.Ordinal) == true
        && !typeof(HttpContext).IsAssignableFrom(type) && type.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is null
        && (type.Name.EndsWith("Request", StringComparison.Ordinal) || type.Namespace.StartsWith("CongressWorkflow.Domain", StringComparison.Ordinal));

    /// <summary>
    /// The values of a body at any depth. A property the type declares as a non-nullable reference that arrived null or
    /// absent is a missing field (JSON binding leaves it null: a posted checkpoint of <c>{}</c> reached the handler and
    /// failed there as a 500); the API's own request types declare what may be absent as nullable.
    /// </summary>
    private static void Check(object value, string path)
    {
        foreach (var (property, required) in Properties.GetOrAdd(value.GetType(), DescribeProperties))
        {
            var field = path.Length == 0 ? Camel(property.Name) : $"{path}.{Camel(property.Name)}";
            var propertyValue = property.GetValue(value);
            if (propertyValue is null && required)
            {
                throw RequestParsing.Missing(field);
            }

            CheckValue(property.Name, propertyValue, field, absentIsDefault: property.PropertyType == typeof(DateOnly));
        }
    }

    private static (PropertyInfo Property, bool Required)[] DescribeProperties(Type type)
    {
        var nullability = new NullabilityInfoContext();
        return [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (p, !p.PropertyType.IsValueType && nullability.Create(p).ReadState == NullabilityState.NotNull))];
    }

    /// <summary>
    /// One value of a body; <paramref name="absentIsDefault"/> for a day the type cannot leave out (an absent one arrives
    /// as 0001-01-01, so that day reads as missing; a day that may be absent and came as 0001-01-01 was given).
    /// </summary>
    private static void CheckValue(string propertyName, object? value, string field, bool absentIsDefault = false)
    {
        switch (value)
        {
            case null:
                return;
            case string text when propertyName == "Id" || propertyName.EndsWith("Id", StringComparison.Ordinal):
                if (!EdgeRules.IsId(text))
                {
                    throw Refuse(InvalidId, $"{field} '{EdgeRules.Shorten(text)}' is not an id: lower-case letters, digits and hyphens, at most 100");
                }

                return;
            case string text:
                if ((NameFields.Contains(propertyName) ? EdgeRules.NameProblem(text) : EdgeRules.TextProblem(text)) is { } problem)
                {
                    throw Refuse(InvalidText, $"{field} {problem}");
                }

                return;
            case DateOnly day:
                if (!EdgeRules.IsSaneDay(day))
                {
                    throw Refuse(InvalidDay, $"{field} {(absentIsDefault && day == default ? "is required" : $"({day:yyyy-MM-dd}) is outside the years 1900 to 2199")}");
                }

                return;
            case IEnumerable items when value is not string:
                var index = 0;
                foreach (var item in items)
                {
                    // No list of a body holds nothing in a place (a null head of a posted checkpoint failed as a 500).
                    CheckValue(propertyName.TrimEnd('s'), item ?? throw RequestParsing.Missing($"{field}[{index}]"), $"{field}[{index}]");
                    index++;
                }

                return;
            default:
                if (value.GetType() is { IsClass: true } type && type.Namespace?.StartsWith("CongressWorkflow", StringComparison.Ordinal) == true)
                {
                    Check(value, field);
                }

                return;
        }
    }

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];

    private static RequestRejectedException Refuse(string code, string message) => new(StatusCodes.Status400BadRequest, code, message);
}
