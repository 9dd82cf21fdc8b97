package main

import (
	"fmt"
	"net"

	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/rest"
	openapicommon "k8s.io/kube-openapi/pkg/common"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/apiserver"
	cmoptions "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd/options"
	generatedcore "sigs.k8s.io/custom-metrics-apiserver/pkg/generated/openapi/core"
	generatedcustommetrics "sigs.k8s.io/custom-metrics-apiserver/pkg/generated/openapi/custommetrics"
	generatedexternalmetrics "sigs.k8s.io/custom-metrics-apiserver/pkg/generated/openapi/externalmetrics"

	"github.com/labsea/metricsender/latest"
)

// serverName names the API server in its OpenAPI document and logs.
const serverName = "metricsender-metrics-api"

// newServer builds the API server that serves store as the external and
// custom metrics APIs, listening on ln, with so's serving, delegated
// authentication and authorization. It is what the library's AdapterBase
// does, less the lister client and informers the bridge never uses (so
// it needs a cluster only for delegation). A *usageError reports options
// that fail the library's validation.
func newServer(so *cmoptions.CustomMetricsAdapterServerOptions, ln net.Listener, store *latest.Store) (*apiserver.CustomMetricsAdapterServer, error) {
	so.SecureServing.Listener = ln
	defs := openAPIDefinitions()
	so.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(defs, openapinamer.NewDefinitionNamer(apiserver.Scheme))
	so.OpenAPIConfig.Info.Title, so.OpenAPIConfig.Info.Version = serverName, "1.0.0"
	so.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(defs, openapinamer.NewDefinitionNamer(apiserver.Scheme))
	so.OpenAPIV3Config.Info.Title, so.OpenAPIV3Config.Info.Version = serverName, "1.0.0"
	if errs := so.Validate(); len(errs) > 0 {
		return nil, usagef("API server flags: %v", joinErrs(errs))
	}
	config := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	// ApplyTo builds a clientset from it for priority and fairness, which
	// the library turns off: it is never dialled.
	config.ClientConfig = &rest.Config{}
	if err := so.ApplyTo(config); err != nil {
		return nil, fmt.Errorf("API server config (delegated authentication and authorization reach the cluster through --kubeconfig, else the in-cluster config): %w", err)
	}
	server, err := (&apiserver.Config{GenericConfig: &config.Config}).Complete(nil).
		New(serverName, customProvider{store}, externalProvider{store})
	if err != nil {
		return nil, fmt.Errorf("API server: %w", err)
	}
	return server, nil
}

// openAPIDefinitions are the OpenAPI definitions of both metrics APIs.
func openAPIDefinitions() openapicommon.GetOpenAPIDefinitions {
	return func(ref openapicommon.ReferenceCallback) map[string]openapicommon.OpenAPIDefinition {
		defs := generatedcore.GetOpenAPIDefinitions(ref)
		for _, more := range []openapicommon.GetOpenAPIDefinitions{generatedcustommetrics.GetOpenAPIDefinitions, generatedexternalmetrics.GetOpenAPIDefinitions} {
			for k, v := range more(ref) {
				defs[k] = v
			}
		}
		return defs
	}
}

func joinErrs(errs []error) string {
	s := ""
	for i, err := range errs {
		if i > 0 {
			s += "; "
		}
		s += err.Error()
	}
	return s
}
