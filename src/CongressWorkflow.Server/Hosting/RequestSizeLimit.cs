using Microsoft.AspNetCore.Http.Features;

namespace CongressWorkflow.Server.Hosting;

/// <summary>
/// Bodies of at most Limits:MaxBodyBytes (1 MB), except the organisation import and a checkpoint sent for verification
/// (Limits:MaxImportBytes, set on Kestrel): both grow with the size of the tree.
/// </summary>
public sealed class RequestSizeLimit(RequestDelegate next, IConfiguration configuration)
{
    private readonly long _maxBodyBytes = configuration.GetValue("Limits:MaxBodyBytes", 1024L * 1024);

    public Task InvokeAsync(HttpContext http)
    {
        if (!http.Request.Path.StartsWithSegments("/api/organizations/import") && !http.Request.Path.StartsWithSegments("/api/store/verify")
            && http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = _maxBodyBytes;
        }

        return next(http);
    }
}
