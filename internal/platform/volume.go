package platform

import (
	"context"
	"time"
)

// VolumeRef names a PersistentVolumeClaim.
type VolumeRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// String renders the ref as namespace/name.
func (r VolumeRef) String() string { return r.Namespace + "/" + r.Name }

// The phase of a bound claim (PersistentVolumeClaim status.phase).
const VolumeBound = "Bound"

// Conditions a resize sets on its claim (PersistentVolumeClaim
// status.conditions): the controller resizes the volume, then the kubelet
// grows the file system (FileSystemResizePending until it has).
const (
	VolumeResizing                = "Resizing"
	VolumeFileSystemResizePending = "FileSystemResizePending"
	VolumeControllerResizeError   = "ControllerResizeError"
	VolumeNodeResizeError         = "NodeResizeError"
)

// VolumeCondition is one condition of a claim whose status is True.
type VolumeCondition struct {
	Type    string    `json:"type"`
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message,omitempty"`
	Since   time.Time `json:"since,omitzero"`
}

// Volume is the observed state of a PersistentVolumeClaim and of what its
// StorageClass allows. Sizes are in bytes.
type Volume struct {
	Ref          VolumeRef `json:"ref"`
	StorageClass string    `json:"storageClass,omitempty"`
	// AllowExpansion is the StorageClass's allowVolumeExpansion.
	AllowExpansion bool `json:"allowExpansion"`
	// ClassProblem says why the StorageClass could not be read (the read is
	// forbidden, the class is gone, the claim names none); empty when it was.
	// AllowExpansion is then unknown and false.
	ClassProblem string `json:"classProblem,omitempty"`
	Phase        string `json:"phase"` // Pending, Bound or Lost
	// Requested is spec.resources.requests.storage: what was asked.
	Requested int64 `json:"requestedBytes"`
	// Capacity is status.capacity.storage: what the volume has (0 while unbound).
	Capacity   int64             `json:"capacityBytes"`
	Conditions []VolumeCondition `json:"conditions,omitempty"`
	// ResizeStatus is status.allocatedResourceStatuses.storage
	// (ControllerResizeInProgress, NodeResizePending, …), when the server sets it.
	ResizeStatus    string            `json:"resizeStatus,omitempty"`
	Annotations     map[string]string `json:"annotations,omitempty"`
	ResourceVersion string            `json:"resourceVersion,omitempty"`
}

// Condition returns the claim's condition of a type, if it holds.
func (v Volume) Condition(kind string) (VolumeCondition, bool) {
	for _, c := range v.Conditions {
		if c.Type == kind {
			return c, true
		}
	}
	return VolumeCondition{}, false
}

// ResizeRequest asks to set the requested size of a claim. ExpectedVersion,
// when set, makes the write fail with ErrConflict if the claim changed since
// it was read; Annotations are written in the same update (guard state).
type ResizeRequest struct {
	Size            int64
	ExpectedVersion string
	Annotations     map[string]string
	DryRun          bool
}

// Volumes is the port of PersistentVolumeClaims.
type Volumes interface {
	// GetVolume reads a claim and its StorageClass; a class that cannot be
	// read is said in Volume.ClassProblem, not as an error.
	GetVolume(ctx context.Context, ref VolumeRef) (Volume, error)
	// ResizeVolume sets the claim's requested size (a server-side dry run
	// when req.DryRun); the volume grows later, as its status says.
	ResizeVolume(ctx context.Context, ref VolumeRef, req ResizeRequest) (Volume, error)
	// RecordVolumeEvent creates an Event regarding the claim, as
	// Cluster.RecordEvent does for a workload (`kubectl describe pvc`).
	RecordVolumeEvent(ctx context.Context, ref VolumeRef, ev Event) error
}
