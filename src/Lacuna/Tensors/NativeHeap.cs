using System.Runtime.InteropServices;

namespace Lacuna.Tensors;

/// <summary>
/// Returns the C heap's free pages to the operating system. <see cref="NativeArray{T}"/> and <see cref="AlignedBuffer"/>
/// come from the C allocator, which on glibc keeps freed blocks below its (dynamically raised) mmap threshold in its own
/// heap: the planner's candidates, packed and dropped layer by layer, left that heap holding 20-40 MB of free but
/// resident pages (ResNet-50 at DLMC 0.9). glibc's <c>malloc_trim</c> gives back every whole free page; elsewhere
/// (not Linux, or a C library without it) this does nothing.
/// </summary>
public static partial class NativeHeap
{
    private static bool s_unavailable = !OperatingSystem.IsLinux();

    /// <summary>Gives free C-heap pages back to the OS; true if the C library did (or could have).</summary>
    public static bool Trim()
    {
        if (s_unavailable) return false;
        try { return MallocTrim(0) != 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true; // e.g. musl has no malloc_trim
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
