using Lacuna.Bench.Baselines;

namespace Lacuna.Cli.Commands;

/// <summary>Which exceptions are a user's input problem (shown as one line) rather than a bug (shown with its trace).</summary>
public static class CliErrors
{
    public static bool IsUserError(Exception e) => e is FormatException // LacunaFormatException: malformed model/matrix files
        or IOException or UnauthorizedAccessException                       // missing files, directories given as files, full disks
        or ArgumentException or NotSupportedException                      // bad shapes and options; unsupported operators
        or DllNotFoundException or OnnxRuntimeException;                   // a baseline that is not installed or refuses the model

    public static string Message(Exception e) => e.Message;
}
