using System.Globalization;
using CustomerSegmentation.Lambdas.Tests.Loopback;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>
/// A model the real scripts/sagemaker/train.py trained on seeded sample customers (scripts/sample_data), in a temporary
/// directory: model.joblib, preprocessing_spec.json, segment_profiles.json and metrics.json, as the Train step writes them.
/// </summary>
internal sealed class TrainedModel : IDisposable
{
    private readonly string _work;

    private TrainedModel(string name, string work)
    {
        Name = name;
        _work = work;
    }

    public string Name { get; }

    /// <summary>The training job's SM_MODEL_DIR: what model.tar.gz holds and what the model server loads.</summary>
    public string ModelDirectory => Path.Combine(_work, "model");

    public string Spec => File.ReadAllText(Path.Combine(ModelDirectory, "preprocessing_spec.json"));

    public string Profiles => File.ReadAllText(Path.Combine(ModelDirectory, "segment_profiles.json"));

    public string Metrics => File.ReadAllText(Path.Combine(ModelDirectory, "metrics.json"));

    /// <param name="name">What the model is called in test output.</param>
    /// <param name="features">train.py --features.</param>
    /// <param name="components">train.py --n-components (0 = no PCA).</param>
    /// <param name="clusters">train.py --n-clusters (0 = chosen by silhouette).</param>
    /// <param name="seed">The sample data's seed.</param>
    public static async Task<TrainedModel> TrainAsync(string name, string features, int components, int clusters, int seed)
    {
        var model = new TrainedModel(name, Directory.CreateTempSubdirectory($"segment-model-{name}-").FullName);
        var train = Directory.CreateDirectory(Path.Combine(model._work, "train")).FullName;
        static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
        await DebianPython.RunModuleAsync("sample_data.customers", "--rows", "2400", "--seed", Text(seed), "--segments", "4",
            "--out", Path.Combine(train, "customers.csv"));
        await DebianPython.RunAsync(Path.Combine(Repository.Root, "scripts", "sagemaker", "train.py"), "--n-clusters", Text(clusters),
            "--max-k", "8", "--n-components", Text(components), "--features", features, "--random-seed", "42",
            "--model-dir", model.ModelDirectory, "--train", train);
        return model;
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
