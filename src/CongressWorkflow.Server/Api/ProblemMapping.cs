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
public sealed class ProblemMapping(IProblemDetailsService problems, ILogger<ProblemMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, code, title) = exception switch
        {
            CommandRejectedException e => (StatusCodes.Status422UnprocessableEntity, e.Code, "The command breaks a rule"),
            ConcurrencyException => (StatusCodes.Status409Conflict, EventStoreErrorCodes.ConcurrencyConflict, "The resource changed since you read it"),
            EventStoreException { Code: "unknown-projection" } e => (StatusCodes.Status404NotFound, e.Code, "No such projection"),
            EventStoreException e => (StatusCodes.Status400BadRequest, e.Code, "The request was rejected"),
            RequestRejectedException e => (e.Status, e.Code, "The request was rejected"),
            BadHttpRequestException => (StatusCodes.Status400BadRequest, RequestErrorCodes.MalformedRequest, "The request is malformed"),
            _ => (StatusCodes.Status500InternalServerError, "internal-error", "An unexpected error occurred"),
        };
        if (status == StatusCodes.Status500InternalServerError)
        {
            logger.LogError(exception, "Unhandled error on {Path}", httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = status;
        var details = new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = status == StatusCodes.Status500InternalServerError ? null : exception.Message,
            Type = $"https://congressworkflow.example/problems/{code}",
            Extensions = { ["code"] = code },
        };
        if (exception is ConcurrencyException conflict)
        {
            details.Extensions["actualVersion"] = conflict.ActualVersion;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = details, Exception = exception });
    }
}
