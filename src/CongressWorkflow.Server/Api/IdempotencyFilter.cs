using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CongressWorkflow.Engine.Commands;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CongressWorkflow.Server.Api;

/// <summary>
/// Idempotency-Key on any command: a retry with the same key and body gets the first answer (and an
/// Idempotent-Replayed header) without appending; the same key with another body is a 422; concurrent duplicates
/// append once (the key is written in the command's transaction). Keys live Idempotency:Retention (24 hours).
/// </summary>
public sealed class IdempotencyFilter(NpgsqlDataSource dataSource, IConfiguration configuration, IOptions<JsonOptions> json) : IEndpointFilter
{
    public const string Header = "Idempotency-Key";
    public const string KeyReused = "idempotency-key-reused";
    public const string InvalidKey = "invalid-idempotency-key";

    private readonly TimeSpan _retention = configuration.GetValue("Idempotency:Retention", TimeSpan.FromHours(24));

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var key = http.Request.Headers[Header].ToString();
        if (key.Length == 0 || HttpMethods.IsGet(http.Request.Method))
        {
            return await next(context);
        }

        if (key.Length > 200 || key.Any(char.IsControl))
        {
            throw new RequestRejectedException(StatusCodes.Status400BadRequest, InvalidKey, "an Idempotency-Key is 1 to 200 printable characters");
        }

        var caller = Caller.Of(http);
        var hash = await HashRequestAsync(http);
        if (await ReplayAsync(http, caller.UserId, key, hash) is { } replay)
        {
            return replay;
        }

        var scope = new IdempotencyScope(caller.UserId, key, hash, _retention);
        IdempotencyScope.Current = scope;
        object? result;
        try
        {
            result = await next(context);
        }
        catch (IdempotentReplayException)
        {
            // A concurrent duplicate committed first: its answer is ours.
            return await ReplayAsync(http, caller.UserId, key, hash) ?? throw new InvalidOperationException("the first use of the key vanished");
        }
        finally
        {
            IdempotencyScope.Current = null;
        }

        if (scope.Recorded && result is IValueHttpResult { Value: { } value } and IStatusCodeHttpResult { StatusCode: { } status })
        {
            await IdempotencyScope.SaveResponseAsync(dataSource, caller.UserId, key, status,
                JsonSerializer.Serialize(value, value.GetType(), json.Value.SerializerOptions), http.RequestAborted);
        }

        return result;
    }

    private async Task<IResult?> ReplayAsync(HttpContext http, string user, string key, byte[] hash)
    {
        if (await IdempotencyScope.FindAsync(dataSource, user, key, _retention, http.RequestAborted) is not { } first)
        {
            return null;
        }

        if (!first.RequestHash.AsSpan().SequenceEqual(hash))
        {
            throw new RequestRejectedException(StatusCodes.Status422UnprocessableEntity, KeyReused,
                $"the Idempotency-Key '{key}' was used for a different request; use a new key for a new request");
        }

        http.Response.Headers.ETag = $"\"{first.Version}\"";
        http.Response.Headers["Idempotent-Replayed"] = "true";
        return first.Body is not null
            ? Results.Content(first.Body, "application/json", Encoding.UTF8, first.Status)
            : Results.Json(new { first.StreamId, first.Version, first.Events }, json.Value.SerializerOptions);
    }

    /// <summary>What makes two requests the same: method, path, query and body bytes.</summary>
    private static async Task<byte[]> HashRequestAsync(HttpContext http)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{http.Request.Method}\n{http.Request.Path}{http.Request.QueryString}\n"));
        if (http.Request.Body.CanSeek)
        {
            http.Request.Body.Position = 0;
            var buffer = new byte[81920];
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }

        return hash.GetHashAndReset();
    }
}
