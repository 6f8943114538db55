using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Operations;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Controllers;

// apiextensions-apiserver's CRD finalizer (pkg/controller/finalizer/crd_finalizer.go): for a CRD being deleted,
// marks it Terminating, deletes every instance (instances with finalizers only get a deletionTimestamp) and, when
// none is left, removes the customresourcecleanup finalizer through /status, which deletes the CRD. Where the real
// one polls a minute and reports InstanceDeletionCheck, this one waits for the instances' own changes.
internal sealed class CrdFinalizer(ResourceOperations operations, ResourceCatalog catalog, TimeProvider time)
{
    private static readonly WriteOptions ControllerWrite = new(FieldValidation: FieldValidation.Ignore);

    public void Sync(string name)
    {
        var crdKind = catalog.CustomResourceDefinitions;
        var crd = operations.Find(crdKind, "", name);
        if (crd is null || ObjectMeta.DeletionTimestamp(crd.Object) is null || !ObjectMeta.Finalizers(crd.Object).Contains(CrdStrategy.CleanupFinalizer))
        {
            return;
        }

        var body = (JsonObject)crd.Object.DeepClone();
        if (CrdStrategy.SetCondition(body, "Terminating", "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress", time.GetUtcNow()))
        {
            try
            {
                operations.Update(crdKind, "", name, body, "status", ControllerWrite);
            }
            catch (StatusException)
            {
                return;
            }

            body = (JsonObject)(operations.Find(crdKind, "", name)?.Object.DeepClone() ?? body);
        }

        if (catalog.KindsForCrd(name) is not { Count: > 0 } kinds)
        {
            CrdStrategy.SetCondition(body, "Terminating", "False", "NeverEstablished", "resource was never established", time.GetUtcNow());
        }
        else
        {
            var instances = kinds[0];
            foreach (var obj in operations.List(instances, null))
            {
                if (ObjectMeta.DeletionTimestamp(obj.Object) is null)
                {
                    try
                    {
                        operations.Delete(instances, obj.Namespace, obj.Name, new DeleteRequest(), ControllerWrite);
                    }
                    catch (StatusException)
                    {
                    }
                }
            }

            if (operations.List(instances, null).Count > 0)
            {
                // Held by finalizers: every change to an instance runs this again.
                return;
            }

            CrdStrategy.SetCondition(body, "Terminating", "False", "InstanceDeletionCompleted", "removed all instances", time.GetUtcNow());
        }

        // The CRD status strategy keeps metadata changes, which is how the finalizer comes off.
        var finalizers = ObjectMeta.Finalizers(body).Where(f => f != CrdStrategy.CleanupFinalizer).Select(f => (JsonNode?)f).ToArray();
        ObjectMeta.Of(body)["finalizers"] = new JsonArray(finalizers);
        try
        {
            operations.Update(crdKind, "", name, body, "status", ControllerWrite);
        }
        catch (StatusException)
        {
        }
    }
}
