using System.Runtime.InteropServices;
using BareLb.ApiServer;

const string Usage = "usage: barelb-apiserver --bind ADDR --port N [--https] [--crds DIR] [--kubeconfig PATH] [--token T]";
var options = new ApiServerOptions();
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value; {Usage}");
    switch (args[i])
    {
        case "--bind":
            options.BindAddress = Value();
            break;
        case "--port":
            var portText = Value();
            if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
            {
                Console.Error.WriteLine($"--port: {portText} is not a port number");
                Console.Error.WriteLine(Usage);
                return 2;
            }

            options.Port = port;
            break;
        case "--https":
            options.UseHttps = true;
            break;
        case "--crds":
            options.CrdDirectory = Value();
            break;
        case "--kubeconfig":
            options.KubeconfigPath = Value();
            break;
        case "--token":
            options.RequiredBearerToken = Value();
            break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            Console.Error.WriteLine(Usage);
            return 2;
    }
}

using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
await using var server = await InMemoryApiServer.StartAsync(options, stop.Token);
Console.WriteLine($"listening on {server.BaseAddress.GetLeftPart(UriPartial.Authority)}");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

return 0;
