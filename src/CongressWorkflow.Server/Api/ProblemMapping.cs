using CongressWorkflow.Engine.Commands;
using CongressWorkflow.EventStore;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace CongressWorkflow.Server.Api;

/// <summary>Stable codes of request errors that are not the event store's or the domain's.</summary>
public static class RequestErrorCodes
{
    public const string MalformedRequest = "malformed-request";
    public const string InvalidQuery = "invalid-query";
    public const string NotFound = "not-found";
    public const string BodyTooLarge = "body-too-large";
    public const string DatabaseUnavailable = "database-unavailable";
    public const string DatabaseTimeout = "database-timeout";
    public const string UnreadableEvent = "unreadable-event";
    public const string NoCheckpoint = "no-checkpoint";
    public const string NotUtf8 = "not-utf8";
    public const string UnsupportedMediaType = "unsupported-media-type";
    public const string ServerStopping = "server-stopping";
    public const string ClientClosedRequest = "client-closed-request";
}

/// <summary>A request the API rejects on purpose, with a stable code.</summary>
public sealed class RequestRejectedException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}

/// <summary>
/// Turns every rejection into an RFC 9457 problem with a stable "code" extension, so clients branch on the code and
/// people read the detail. Unexpected exceptions become a 500 without internals.
/// </summary>
public sealed class ProblemMapping(IProblemDetailsService problems, IHostApplicationLifetime lifetime, ILogger<ProblemMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, code, title) = exception switch
        {
            CommandRejectedException e => (StatusCodes.Status422UnprocessableEntity, e.Code, "The command breaks a rule"),
            EventStoreException { Code: EventStoreErrorCodes.ConcurrencyConflict } =>
                (StatusCodes.Status409Conflict, EventStoreErrorCodes.ConcurrencyConflict, "The resource changed since you read it"),
            EventStoreException { IsStoredDataFault: true } => (StatusCodes.Status500InternalServerError, RequestErrorCodes.UnreadableEvent, "A stored event cannot be read"),
            EventStoreException { Code: "unknown-projection" } e => (StatusCodes.Status404NotFound, e.Code, "No such projection"),
            EventStoreException e => (StatusCodes.Status400BadRequest, e.Code, "The request was rejected"),
            RequestRejectedException e => (e.Status, e.Code, "The request was rejected"),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (StatusCodes.Status413PayloadTooLarge, RequestErrorCodes.BodyTooLarge, "The request body is too large"),
            BadHttpRequestException => (StatusCodes.Status400BadRequest, RequestErrorCodes.MalformedRequest, "The request is malformed"),
            // A request cut short because its client went away (nobody reads the answer) or because the server is stopping
            // (Kestrel cancels what is still being read): neither is the server's error, and the second may be retried on
            // another node.
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested =>
                (StatusCodes.Status499ClientClosedRequest, RequestErrorCodes.ClientClosedRequest, "The client went away"),
            OperationCanceledException when lifetime.ApplicationStopping.IsCancellationRequested =>
                (StatusCodes.Status503ServiceUnavailable, RequestErrorCodes.ServerStopping, "The server is stopping"),
            _ when IsStatementTimeout(exception) => (StatusCodes.Status503ServiceUnavailable, RequestErrorCodes.DatabaseTimeout, "The database did not answer in time"),
            _ when IsDatabaseUnavailable(exception) => (StatusCodes.Status503ServiceUnavailable, RequestErrorCodes.DatabaseUnavailable, "The database cannot be reached"),
            _ => (StatusCodes.Status500InternalServerError, "internal-error", "An unexpected error occurred"),
        };
        if (status == StatusCodes.Status500InternalServerError)
        {
            logger.LogError(exception, "Unhandled error on {Path}", httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "5";
        }

        var details = Details(status, code, title, (status, code) switch
        {
            (StatusCodes.Status500InternalServerError, RequestErrorCodes.UnreadableEvent) => exception.Message,
            (StatusCodes.Status500InternalServerError, _) => null,
            (StatusCodes.Status503ServiceUnavailable, RequestErrorCodes.DatabaseTimeout) =>
                "PostgreSQL did not answer within the command timeout (Command Timeout in the connection string, 30 s unless set): a statement ran " +
                "too long, or the server is overloaded. Try again shortly; after a command, read what it changes first (one that timed out " +
                "before it committed recorded nothing)",
            (StatusCodes.Status503ServiceUnavailable, RequestErrorCodes.ServerStopping) =>
                "this server stopped before the request was whole or answered, and nothing of it was done; send it again (to another node, if there is one)",
            (StatusCodes.Status503ServiceUnavailable, _) => "PostgreSQL is unreachable or restarting; try again shortly",
            // Where the body went wrong, not only that it did ("Failed to read parameter … as JSON" named no field).
            (_, RequestErrorCodes.MalformedRequest) when exception.InnerException is System.Text.Json.JsonException { Path: { } path } =>
                $"{exception.Message} The JSON does not fit at {path}: a field this request does not have, a field given twice, or a value of the wrong kind.",
            _ => exception.Message,
        });
        if (exception is ConcurrencyException conflict)
        {
            details.Extensions["actualVersion"] = conflict.ActualVersion;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = details, Exception = exception });
    }

    /// <summary>A problem document with its stable code, as every refusal of the API is written.</summary>
    public static ProblemDetails Details(int status, string code, string title, string? detail) => new()
    {
        Status = status,
        Title = title,
        Detail = detail,
        Type = $"https://congressworkflow.example/problems/{code}",
        Extensions = { ["code"] = code },
    };

    /// <summary>Writes a problem with a stable code outside the exception path (authentication, refusals decided by middleware).</summary>
    public static async Task WriteAsync(HttpContext http, int status, string code, string title, string? detail)
    {
        http.Response.StatusCode = status;
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = Details(status, code, title, detail),
        });
    }

    /// <summary>
    /// A statement whose answer did not come within the command timeout: Npgsql gives up reading (and cancels it). The
    /// database is there; calling it unreachable sent operators looking for an outage.
    /// </summary>
    private static bool IsStatementTimeout(Exception exception) => exception switch
    {
        Npgsql.NpgsqlException { InnerException: TimeoutException } e => e.Message.StartsWith("Exception while reading from stream", StringComparison.Ordinal),
        _ => exception.InnerException is { } inner && IsStatementTimeout(inner),
    };

    /// <summary>A connection that cannot be opened or was cut, or a server shutting down or full: the client should retry, not give up.</summary>
    private static bool IsDatabaseUnavailable(Exception exception) => exception switch
    {
        Npgsql.PostgresException e => e.SqlState.StartsWith("08", StringComparison.Ordinal) || e.SqlState is "57P01" or "57P02" or "57P03" or "53300",
        Npgsql.NpgsqlException e => e.InnerException is System.Net.Sockets.SocketException or TimeoutException or IOException or EndOfStreamException || e.IsTransient,
        System.Net.Sockets.SocketException => true,
        _ => exception.InnerException is { } inner && IsDatabaseUnavailable(inner),
    };
}
