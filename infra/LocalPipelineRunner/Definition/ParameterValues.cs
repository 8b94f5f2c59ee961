using System.Text.Json.Nodes;

namespace CustomerSegmentation.LocalPipelineRunner.Definition;

/// <summary>The value of every declared parameter for one execution: its default unless overridden.</summary>
public static class ParameterValues
{
    /// <summary>Checks every override (name declared, value of the declared type) and reports all problems at once.</summary>
    public static IReadOnlyDictionary<string, JsonNode?> Resolve(
        IReadOnlyList<PipelineParameter> declared, IReadOnlyDictionary<string, string> overrides)
    {
        ArgumentNullException.ThrowIfNull(declared);
        ArgumentNullException.ThrowIfNull(overrides);
        var errors = new List<string>();
        var values = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (name, text) in overrides.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            var parameter = declared.FirstOrDefault(p => p.Name == name);
            if (parameter is null)
            {
                errors.Add($"Unknown parameter {name}; the pipeline declares: {string.Join(", ", declared.Select(p => p.Name))}.");
                continue;
            }

            var value = parameter.Parse(text, out var error);
            if (error is not null)
            {
                errors.Add(error);
            }
            else
            {
                values[name] = value;
            }
        }

        foreach (var parameter in declared.Where(p => !overrides.ContainsKey(p.Name)))
        {
            if (parameter.DefaultValue is null)
            {
                errors.Add($"Parameter {parameter.Name} has no default value; pass --param {parameter.Name}=<{parameter.Type}>.");
            }
            else
            {
                values[parameter.Name] = parameter.DefaultValue.DeepClone();
            }
        }

        if (errors.Count > 0)
        {
            throw new PipelineRunnerException(string.Join(Environment.NewLine, errors));
        }

        return values;
    }

    /// <summary>Splits <c>Name=Value</c> command-line arguments (the value may contain '=' and be empty).</summary>
    public static IReadOnlyDictionary<string, string> ParseAssignments(IEnumerable<string> assignments)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var assignment in assignments)
        {
            var equals = assignment.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new PipelineRunnerException($"--param '{assignment}' is not Name=Value.");
            }

            var name = assignment[..equals];
            if (!result.TryAdd(name, assignment[(equals + 1)..]))
            {
                throw new PipelineRunnerException($"--param {name} is given more than once.");
            }
        }

        return result;
    }
}
