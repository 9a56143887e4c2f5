using System.Diagnostics;
using System.Globalization;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using CsvHelper;
using CsvHelper.Configuration;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using NJsonSchema;
using Npgsql;

namespace CongressWorkflow.Engine.Import;

public enum ImportFormat
{
    Json,
    Csv,
}

/// <summary>One bad row: where it is in the file (1-based line), which organisation, and why.</summary>
public sealed record ImportError(int Line, string? OrganizationId, string Reason);

/// <summary>What an import did, or, when <see cref="Errors"/> is not empty, why it did nothing.</summary>
public sealed record ImportReport(int Registered, int Renamed, int Moved, int Unchanged, IReadOnlyList<ImportError> Errors)
{
    /// <summary>Existing organisations whose contacts the file changed.</summary>
    public int ContactsChanged { get; init; }

    public bool Succeeded => Errors.Count == 0;
}

/// <summary>
/// Imports an organisation tree from JSON or CSV. Every row is checked (the JSON Schema in schemas/, then the tree
/// rules against the file and the existing tree together) before anything is written; one bad row and nothing is
/// imported. Rows that match what is stored change nothing, so re-importing a file is harmless; a new name or parent
/// becomes a rename or a move. All writes commit in one transaction.
/// </summary>
public sealed class OrganizationImport(CommandPipeline pipeline, OrganizationTree tree)
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        using var stream = typeof(OrganizationImport).Assembly.GetManifestResourceStream("org-tree-import.v1.schema.json")!;
        using var reader = new StreamReader(stream);
        return JsonSchema.FromJsonAsync(reader.ReadToEnd()).GetAwaiter().GetResult();
    });

    /// <param name="Contacts">Null when the row says nothing of contacts (they stay as they are); empty to remove them all.</param>
    private sealed record Row(int Line, string Id, string Name, OrganizationLevel Level, Sector? Sector, string? ParentId, IReadOnlyList<Contact>? Contacts);

    private sealed record Known(string Id, string Name, OrganizationLevel Level, string? ParentId, bool IsDissolved, long Version);

    /// <summary>How many times a file is decided again after another writer changed the tree under it.</summary>
    private const int MaxAttempts = 5;

    public async Task<ImportReport> ImportAsync(string content, ImportFormat format, CommandContext context, CancellationToken cancellationToken = default)
    {
        var parseErrors = new List<ImportError>();
        var rows = format == ImportFormat.Json ? ParseJson(content, parseErrors) : ParseCsv(content, parseErrors);
        if (rows.Count == 0 && parseErrors.Count == 0)
        {
            // A header alone (an export cut short, the wrong sheet) is not an import that succeeded with nothing to do.
            parseErrors.Add(new ImportError(1, null, "the file holds no organisations"));
        }

        // The file is decided on the tree as it stands; if another import or command wrote one of its organisations
        // before this one committed (the store says so), it is decided again on the tree as that one left it, where
        // what it would have registered is already there.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await DecideAndWriteAsync(rows, [.. parseErrors], context, cancellationToken);
            }
            catch (EventStoreException e) when (e.Code == EventStoreErrorCodes.ConcurrencyConflict && attempt < MaxAttempts)
            {
                await CommandPipeline.BackOffAsync(Activity.Current, attempt, cancellationToken);
            }
        }
    }

    private async Task<ImportReport> DecideAndWriteAsync(List<Row> rows, List<ImportError> errors, CommandContext context, CancellationToken cancellationToken)
    {
        var known = await LoadTreeAsync(rows, cancellationToken);
        var flagged = CheckTree(rows, known, errors);
        var contacts = await tree.ContactsAsync([.. rows.Where(r => r.Contacts is not null && known.ContainsKey(r.Id)).Select(r => r.Id)], cancellationToken);

        // The Decider is the only source of the tree rules (names, levels, parents, dissolved parents, cycles,
        // contacts): every row the file-wide checks let through is decided, and every rejection is reported with its
        // line before anything is written.
        var inFile = rows.GroupBy(r => r.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (g.First().Level, g.First().ParentId), StringComparer.Ordinal);
        var writes = new List<PendingWrite>();
        var registrations = new List<PendingWrite>();
        int registered = 0, renamed = 0, moved = 0, unchanged = 0, contactsChanged = 0;
        foreach (var (row, index) in OrderParentsFirst(rows).Select((r, i) => (r, i)))
        {
            if (index % 1000 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var facts = row.ParentId is null ? null : ParentFacts(row.ParentId, known, inFile);
            if (flagged.Contains(row.Line) || (row.ParentId is not null && facts is null))
            {
                continue;
            }

            var decisions = new List<Decision>();
            if (known.TryGetValue(row.Id, out var existing))
            {
                var state = new Organization(existing.Id, existing.Name, existing.Level, row.Sector, existing.ParentId, existing.IsDissolved)
                {
                    Contacts = contacts[row.Id].ToList(),
                };
                decisions.Add(OrganizationDecider.Decide(new RenameOrganization(row.Id, row.Name, context), state));
                if (row.ParentId is not null && row.ParentId != existing.ParentId)
                {
                    decisions.Add(OrganizationDecider.Decide(new MoveOrganization(row.Id, facts!, context), state));
                }

                if (row.Contacts is not null)
                {
                    decisions.Add(OrganizationDecider.Decide(new SetContacts(row.Id, row.Contacts, context), state));
                }
            }
            else
            {
                var registration = OrganizationDecider.Decide(new RegisterOrganization(row.Id, row.Name, row.Level, row.Sector, facts, context), Organization.None);
                decisions.Add(registration);
                if (row.Contacts is not null && registration is Decision.Accepted accepted)
                {
                    decisions.Add(OrganizationDecider.Decide(new SetContacts(row.Id, row.Contacts, context),
                        accepted.Events.Aggregate(Organization.None, OrganizationDecider.Evolve)));
                }
            }

            foreach (var rejected in decisions.OfType<Decision.Rejected>())
            {
                errors.Add(new ImportError(row.Line, row.Id, rejected.Error.Message));
            }

            var events = decisions.OfType<Decision.Accepted>().SelectMany(a => a.Events).ToArray();
            registered += events.OfType<OrganizationRegistered>().Count();
            renamed += events.OfType<OrganizationRenamed>().Count();
            moved += events.OfType<OrganizationMoved>().Count();
            contactsChanged += existing is null ? 0 : events.OfType<OrganizationContactsSet>().Count();
            unchanged += existing is not null && events.Length == 0 ? 1 : 0;
            if (events.Length > 0)
            {
                (existing is null ? registrations : writes).Add(new PendingWrite(Organization.StreamId(row.Id), OrganizationService.Aggregate.StreamType, existing?.Version ?? 0, events,
                    (connection, transaction, e, version, ctx) => OrganizationTree.ProjectAsync(connection, transaction, e, Organization.None, version, ctx)));
            }
        }

        if (errors.Count > 0)
        {
            return new ImportReport(0, 0, 0, 0, [.. errors.OrderBy(e => e.Line)]);
        }

        if (writes.Count + registrations.Count > 0)
        {
            // New organisations go in bulk (one statement for their tree rows, binary COPY for their streams).
            await pipeline.AppendAllAsync(writes, context, Guid.NewGuid(), cancellationToken, registrations, OrganizationTree.ProjectRegistrationsAsync);
        }

        return new ImportReport(registered, renamed, moved, unchanged, []) { ContactsChanged = contactsChanged };
    }

    private static List<Row> ParseJson(string content, List<ImportError> errors)
    {
        JToken document;
        try
        {
            using var reader = new JsonTextReader(new StringReader(content)) { DateParseHandling = DateParseHandling.None };
            // A field given twice in a row would be read at its last value: which one the sender meant is not known.
            document = JToken.Load(reader, new JsonLoadSettings
            {
                LineInfoHandling = LineInfoHandling.Load, DuplicatePropertyNameHandling = DuplicatePropertyNameHandling.Error,
            });
        }
        catch (JsonReaderException e)
        {
            errors.Add(new ImportError(Math.Max(1, e.LineNumber), null, $"not valid JSON: {e.Message}"));
            return [];
        }

        foreach (var error in Leaves(Schema.Value.Validate(document)))
        {
            errors.Add(new ImportError(Math.Max(1, error.LineNumber), null, $"{error.Path}: {Describe(error.Kind)}"));
        }

        if (errors.Count > 0)
        {
            return [];
        }

        return document["organizations"]!.Children<JObject>()
            .Select(o => ToRow(((IJsonLineInfo)o).LineNumber, o))
            .ToList();
    }

    private static List<Row> ParseCsv(string content, List<ImportError> errors)
    {
        try
        {
            return ReadCsv(content, errors);
        }
        catch (CsvHelperException e)
        {
            // An unterminated quote or a broken row: say where, import nothing.
            errors.Add(new ImportError(Math.Max(1, e.Context?.Parser?.Row ?? 1), null, "the CSV is malformed from this record on (an unterminated quote or a broken row)"));
            return [];
        }
    }

    /// <summary>The columns of a CSV tree: the JSON schema's fields, contacts as "role:email;…".</summary>
    private static readonly string[] CsvColumns = ["id", "name", "level", "sector", "parent_id", "contacts"];

    private static List<Row> ReadCsv(string content, List<ImportError> errors)
    {
        var rows = new List<Row>();
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture) { TrimOptions = TrimOptions.Trim, MissingFieldFound = null };
        using var csv = new CsvReader(new StringReader(content), configuration);
        if (!csv.Read() || !csv.ReadHeader())
        {
            errors.Add(new ImportError(1, null, "the file is empty: expected a header id,name,level,sector,parent_id"));
            return rows;
        }

        var missing = new[] { "id", "name", "level" }.Where(h => !csv.HeaderRecord!.Contains(h, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
        {
            errors.Add(new ImportError(1, null, $"the header lacks {string.Join(", ", missing)}: expected id,name,level,sector,parent_id"));
            return rows;
        }

        // A column of another name is refused, not skipped: "parent-id" for parent_id would have made every row a top-level organisation.
        var unknown = csv.HeaderRecord!.Where(h => !CsvColumns.Contains(h, StringComparer.Ordinal)).ToList();
        var repeated = csv.HeaderRecord!.GroupBy(h => h, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (unknown.Count > 0 || repeated.Count > 0)
        {
            errors.Add(new ImportError(1, null, unknown.Count > 0
                ? $"the header has a column this import does not know: {string.Join(", ", unknown.Take(5).Select(h => $"'{EdgeRules.Shorten(h)}'"))} (expected {string.Join(",", CsvColumns)})"
                : $"the header names a column twice: {string.Join(", ", repeated.Take(5).Select(h => $"'{EdgeRules.Shorten(h)}'"))}"));
            return rows;
        }

        while (csv.Read())
        {
            var line = csv.Parser.RawRow;
            var item = new JObject
            {
                ["id"] = csv.GetField("id"),
                ["name"] = csv.GetField("name"),
                ["level"] = csv.GetField("level"),
                ["sector"] = Blank(csv.GetField("sector")),
                ["parentId"] = Blank(csv.GetField("parent_id")),
            };
            // A blank contacts cell keeps the organisation's contacts as they are.
            if (csv.HeaderRecord!.Contains("contacts", StringComparer.Ordinal) && !string.IsNullOrWhiteSpace(csv.GetField("contacts")))
            {
                item["contacts"] = CsvContacts(csv.GetField("contacts"));
            }

            // The row is checked against the same schema as a JSON file, wrapped as a one-item document.
            var rowErrors = Leaves(Schema.Value.Validate(new JObject { ["organizations"] = new JArray(item) })).ToList();
            foreach (var error in rowErrors)
            {
                errors.Add(new ImportError(line, item["id"]?.ToString(), $"{error.Property ?? error.Path}: {Describe(error.Kind)}"));
            }

            if (rowErrors.Count == 0)
            {
                rows.Add(ToRow(line, item));
            }
        }

        return rows;
    }

    /// <summary>The innermost errors: an invalid array item is reported as the field in it that is wrong.</summary>
    private static IEnumerable<NJsonSchema.Validation.ValidationError> Leaves(IEnumerable<NJsonSchema.Validation.ValidationError> errors) =>
        errors.SelectMany(e => e is NJsonSchema.Validation.ChildSchemaValidationError child && child.Errors.Count > 0
            ? Leaves(child.Errors.SelectMany(c => c.Value))
            : [e]);

    private static JToken Blank(string? value) => string.IsNullOrWhiteSpace(value) ? JValue.CreateNull() : value;

    /// <summary>The CSV form of contacts: "role:email[:language]" entries separated by ";", e.g. "secretariat:vp@x.vn;committee:tv@x.vn:en".</summary>
    private static JArray CsvContacts(string? cell) =>
        [.. cell!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(entry =>
        {
            var parts = entry.Split(':', StringSplitOptions.TrimEntries);
            var contact = new JObject { ["role"] = parts[0], ["email"] = parts.Length > 1 ? parts[1] : string.Empty };
            if (parts.Length > 2)
            {
                contact["language"] = parts[2];
            }

            return contact;
        })];

    private static Row ToRow(int line, JObject o) => new(
        line,
        o.Value<string>("id")!,
        o.Value<string>("name")!,
        Enum.Parse<OrganizationLevel>(o.Value<string>("level")!, ignoreCase: true),
        o.Value<string?>("sector") is { } sector ? Enum.Parse<Sector>(sector.Replace("-", string.Empty, StringComparison.Ordinal), ignoreCase: true) : null,
        o.Value<string?>("parentId"),
        o["contacts"] is JArray contacts
            ? [.. contacts.Children<JObject>().Select(c => new Contact(c.Value<string>("role")!, c.Value<string>("email")!, c.Value<string?>("name"),
                c.Value<string?>("language") ?? "vi"))]
            : null);

    private static string Describe(NJsonSchema.Validation.ValidationErrorKind kind) => kind switch
    {
        NJsonSchema.Validation.ValidationErrorKind.PropertyRequired => "a required field is missing",
        NJsonSchema.Validation.ValidationErrorKind.NotInEnumeration => "not one of the allowed values",
        NJsonSchema.Validation.ValidationErrorKind.PatternMismatch => "not in the required form (lower-case letters, digits, hyphens)",
        NJsonSchema.Validation.ValidationErrorKind.StringTooShort => "must not be empty",
        NJsonSchema.Validation.ValidationErrorKind.NoAdditionalPropertiesAllowed => "is not a known field",
        _ => kind.ToString(),
    };

    /// <summary>
    /// What only the file as a whole can say (the Decider judges each row): ids given twice, parents nowhere, levels
    /// changed. Returns the lines it reported.
    /// </summary>
    private static HashSet<int> CheckTree(List<Row> rows, Dictionary<string, Known> known, List<ImportError> errors)
    {
        var before = errors.Count;
        var byId = new Dictionary<string, Row>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!byId.TryAdd(row.Id, row))
            {
                errors.Add(new ImportError(row.Line, row.Id, $"id '{row.Id}' appears again (first on line {byId[row.Id].Line})"));
            }
        }

        foreach (var row in rows)
        {
            if (known.TryGetValue(row.Id, out var existing) && existing.Level != row.Level)
            {
                errors.Add(new ImportError(row.Line, row.Id, $"'{row.Id}' is stored as {existing.Level}; an import cannot change its level to {row.Level}"));
            }

            if (row.ParentId is not null && !byId.ContainsKey(row.ParentId) && !known.ContainsKey(row.ParentId))
            {
                errors.Add(new ImportError(row.Line, row.Id, $"parent '{row.ParentId}' is neither in the file nor registered"));
            }
        }

        return [.. errors.Skip(before).Select(e => e.Line)];
    }

    /// <summary>Parents before children: a child is always at a deeper level, which also rules out cycles.</summary>
    private static IEnumerable<Row> OrderParentsFirst(List<Row> rows) =>
        rows.OrderBy(r => (int)r.Level).ThenBy(r => r.Line);

    /// <summary>
    /// A parent's facts from the file (which wins) and the stored tree: one walk up, no copy of the file per row; null
    /// when the chain leads to an organisation that is nowhere (reported on its own row).
    /// </summary>
    private static ParentFacts? ParentFacts(string parentId, Dictionary<string, Known> known, Dictionary<string, (OrganizationLevel Level, string? ParentId)> fileParents)
    {
        var ancestors = new List<string>();
        OrganizationLevel? level = null;
        var dissolved = false;
        for (var id = parentId; id is not null && ancestors.Count < 16;)
        {
            ancestors.Insert(0, id);
            if (fileParents.TryGetValue(id, out var inFile))
            {
                level ??= inFile.Level;
                id = inFile.ParentId;
            }
            else if (known.TryGetValue(id, out var stored))
            {
                level ??= stored.Level;
                // The parent's own flag: its ancestors are walked for their ids only.
                dissolved |= ancestors.Count == 1 && stored.IsDissolved;
                id = stored.ParentId;
            }
            else
            {
                return null;
            }
        }

        return new ParentFacts(parentId, level!.Value, dissolved, ancestors);
    }

    /// <summary>
    /// What the stored tree says of the file: its rows' organisations and named parents, with their ancestors up to
    /// the root (the parent facts walk them). Not the whole tree: a file of a hundred rows into 300,000 reads a few hundred.
    /// </summary>
    private async Task<Dictionary<string, Known>> LoadTreeAsync(List<Row> rows, CancellationToken cancellationToken)
    {
        var known = new Dictionary<string, Known>(StringComparer.Ordinal);
        await using var command = pipeline.DataSource.CreateCommand("""
            WITH RECURSIVE wanted AS (
                SELECT organization_id, name, level, parent_id, is_dissolved, version FROM congress.organizations WHERE organization_id = ANY($1)
                UNION
                SELECT o.organization_id, o.name, o.level, o.parent_id, o.is_dissolved, o.version
                FROM congress.organizations o JOIN wanted w ON o.organization_id = w.parent_id)
            SELECT organization_id, name, level, parent_id, is_dissolved, version FROM wanted
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Select(r => r.Id).Concat(rows.Select(r => r.ParentId).OfType<string>()).Distinct(StringComparer.Ordinal)] });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            known[reader.GetString(0)] = new Known(reader.GetString(0), reader.GetString(1), (OrganizationLevel)reader.GetInt16(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetBoolean(4), reader.GetInt64(5));
        }

        return known;
    }
}
