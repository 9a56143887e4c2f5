using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace CongressWorkflow.Server.Hosting;

/// <summary>The API contract: an OpenAPI document at /openapi/v1.json (generated from the endpoints) and its reference page at /scalar.</summary>
public static class OpenApiSetup
{
    public static void AddCongressOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "CongressWorkflow API",
                    Version = "v1",
                    Description = "Congress lifecycles, the organisation tree, monitoring, deadlines and audit. Every call but health and the demo " +
                                  "sign-in needs a bearer token; every error is an RFC 9457 problem with a stable `code`.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "A token naming the user (sub), the organisation (org) and the role (role)",
                };
                document.Security ??= [];
                document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
                return Task.CompletedTask;
            });
        });

    public static void MapCongressOpenApi(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference(options => options.WithTitle("CongressWorkflow API")).AllowAnonymous();
    }
}
