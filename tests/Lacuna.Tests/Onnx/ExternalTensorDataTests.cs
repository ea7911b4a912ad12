using Lacuna.Onnx;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Onnx;

/// <summary>External data is read only from inside the model's folder, with offsets and lengths checked.</summary>
public sealed class ExternalTensorDataTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("lacuna-ext-").FullName;
    private readonly string _modelDir;
    private readonly float[] _weights = TestData.Random(12, seed: 5);

    public ExternalTensorDataTests()
    {
        _modelDir = Directory.CreateDirectory(Path.Combine(_root, "model")).FullName;
        Directory.CreateDirectory(Path.Combine(_modelDir, "weights"));
        // 16 bytes of padding, then the 12 floats: offset 16, length 48.
        byte[] file = [.. new byte[16], .. TensorProto.FromFloats("w", [12], _weights).RawData!];
        File.WriteAllBytes(Path.Combine(_modelDir, "weights", "data.bin"), file);
        File.WriteAllBytes(Path.Combine(_root, "secret.bin"), file);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static TensorProto External(string location, string? offset = "16", string? length = "48", params long[] dims)
    {
        var t = new TensorProto { Name = "w", DataType = TensorDataType.Float, DataLocation = TensorDataLocation.External };
        t.Dims.AddRange(dims.Length == 0 ? [3, 4] : dims);
        t.ExternalData.Add(new StringStringEntryProto("location", location));
        if (offset is not null) t.ExternalData.Add(new StringStringEntryProto("offset", offset));
        if (length is not null) t.ExternalData.Add(new StringStringEntryProto("length", length));
        return t;
    }

    /// <summary>Saves a model holding <paramref name="tensor"/> in the model folder and loads it back from disk.</summary>
    private OnnxModel SaveAndLoad(TensorProto tensor)
    {
        var g = new GraphProto { Name = "g" };
        g.Initializer.Add(tensor);
        string path = Path.Combine(_modelDir, "m.onnx");
        new OnnxModel(new ModelProto { IrVersion = 8, Graph = g }).Save(path);
        return OnnxModel.Load(path);
    }

    private LacunaFormatException Fails(TensorProto tensor)
    {
        var model = SaveAndLoad(tensor);
        return Assert.Throws<LacunaFormatException>(() => model.ReadFloats(model.Graph.Initializer[0]));
    }

    [Fact]
    public void ReadsTheSpanNamedByLocationOffsetAndLength()
    {
        var model = SaveAndLoad(External("weights/data.bin"));
        Assert.Equal(TensorStorage.External, model.Graph.Initializer[0].Storage);
        Assert.Equal(_weights, model.ReadFloats(model.Graph.Initializer[0]));
        Assert.Equal(_weights, model.Graph.Initializer[0].ToFloatArray(_modelDir));
    }

    [Fact]
    public void LengthDefaultsToTheRestOfTheFile()
    {
        var model = SaveAndLoad(External("./weights/data.bin", length: null));
        Assert.Equal(_weights, model.ReadFloats(model.Graph.Initializer[0]));
    }

    [Theory]
    [InlineData("../secret.bin", "'..'")]
    [InlineData("weights/../../secret.bin", "'..'")]
    [InlineData("/etc/passwd", "absolute")]
    [InlineData("", "no 'location'")]
    [InlineData("weights/missing.bin", "not an existing file")]
    [InlineData("weights", "not an existing file")]
    public void LocationsOutsideTheFolderOrMissingAreRejected(string location, string expected)
    {
        var e = Fails(External(location));
        Assert.Equal("tensor 'w' external_data", e.Where);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void SymlinksLeavingTheFolderAreRejectedAndInsideOnesFollowed()
    {
        File.CreateSymbolicLink(Path.Combine(_modelDir, "escape.bin"), Path.Combine(_root, "secret.bin"));
        Directory.CreateSymbolicLink(Path.Combine(_modelDir, "up"), _root);
        File.CreateSymbolicLink(Path.Combine(_modelDir, "relative.bin"), "../secret.bin");
        File.CreateSymbolicLink(Path.Combine(_modelDir, "inside.bin"), "weights/data.bin");

        Assert.Contains("outside the model's folder", Fails(External("escape.bin")).Message);
        Assert.Contains("outside the model's folder", Fails(External("up/secret.bin")).Message);
        Assert.Contains("outside the model's folder", Fails(External("relative.bin")).Message);
        var model = SaveAndLoad(External("inside.bin"));
        Assert.Equal(_weights, model.ReadFloats(model.Graph.Initializer[0]));
    }

    [Theory]
    [InlineData("65", "48", "offset 65 is beyond the end")]
    [InlineData("16", "49", "is beyond the end")]
    [InlineData("9223372036854775807", "48", "is beyond the end")]
    [InlineData("-1", "48", "not a non-negative integer")]
    [InlineData("16", "1e3", "not a non-negative integer")]
    [InlineData("20", "44", "holds 44 bytes but dims [3, 4] of Float need 48")]
    public void OffsetsAndLengthsAreCheckedAgainstTheFileAndDims(string offset, string length, string expected)
    {
        Assert.Contains(expected, Fails(External("weights/data.bin", offset, length)).Message);
    }

    [Fact]
    public void InMemoryModelsCannotResolveExternalData()
    {
        var model = OnnxModel.Parse(OnnxSerializer.ToBytes(new ModelProto { Graph = new GraphProto { Initializer = { External("weights/data.bin") } } }));
        var e = Assert.Throws<LacunaFormatException>(() => model.ReadFloats(model.Graph.Initializer[0]));
        Assert.Contains("has no folder", e.Message);
    }
}
