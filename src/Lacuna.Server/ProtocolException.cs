namespace Lacuna.Server;

/// <summary>
/// A request the server refuses: the HTTP status and a one-line message that names what is wrong (the input, what
/// was expected). Answered as <c>{"error": message}</c>; never logged per request.
/// </summary>
public sealed class ProtocolException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;

    public static ProtocolException BadRequest(string message) => new(400, message);
    public static ProtocolException NotFound(string message) => new(404, message);
    public static ProtocolException Unavailable(string message) => new(503, message);
}
