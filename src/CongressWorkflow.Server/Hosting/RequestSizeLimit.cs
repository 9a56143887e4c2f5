using Microsoft.AspNetCore.Http.Features;

namespace CongressWorkflow.Server.Hosting;

/// <summary>
/// Bodies of at most Limits:MaxBodyBytes (1 MB), except two that grow with the size of the tree: the organisation import
/// (Limits:MaxImportBytes, set on Kestrel) and a checkpoint sent for verification (Limits:MaxCheckpointBytes, 2 GB: it is
/// read as it streams, and a national store's is 215 MB).
/// </summary>
public sealed class RequestSizeLimit(RequestDelegate next, IConfiguration configuration)
{
    private readonly long _maxBodyBytes = configuration.GetValue("Limits:MaxBodyBytes", 1024L * 1024);
    private readonly long _maxCheckpointBytes = configuration.GetValue("Limits:MaxCheckpointBytes", 2048L * 1024 * 1024);

    public Task InvokeAsync(HttpContext http)
    {
        if (!http.Request.Path.StartsWithSegments("/api/organizations/import")
            && http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = http.Request.Path.StartsWithSegments("/api/store/verify") ? _maxCheckpointBytes : _maxBodyBytes;
        }

        return next(http);
    }
}
