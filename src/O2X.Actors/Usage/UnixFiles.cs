using System.Runtime.InteropServices;

namespace O2X.Actors.Usage;

/// <summary>
/// The two questions .NET cannot answer about a path on Linux: where it really leads once every symbolic link on the way
/// is resolved (<c>realpath(3)</c>), and what kind of file is there (<c>statx(2)</c>: a FIFO, a device or a directory
/// must never be opened as a CDR file — opening a FIFO blocks until someone writes to it).
/// </summary>
internal static class UnixFiles
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int ModeTypeMask = 0xF000;
    private const int RegularFile = 0x8000;
    private const int Enoent = 2;
    private const int Enotdir = 20;

    /// <summary>The canonical path, or null when something on the way does not exist.</summary>
    public static string? RealPath(string path)
    {
        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            var error = Marshal.GetLastPInvokeError();
            if (error is Enoent or Enotdir) return null;
            throw new IOException($"realpath failed (errno {error}).");
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    /// <summary>Whether <paramref name="path"/> itself (a link is not followed) is a regular file.</summary>
    public static bool IsRegularFile(string path)
    {
        // struct statx is 256 bytes; stx_mode is the u16 at offset 28 (the layout is the same on every architecture).
        var buffer = new byte[256];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
            throw new IOException($"statx failed (errno {Marshal.GetLastPInvokeError()}).");
        var mode = BitConverter.ToUInt16(buffer, 28);
        return (mode & ModeTypeMask) == RegularFile;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc")]
    private static extern void free(IntPtr pointer);

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);
}
